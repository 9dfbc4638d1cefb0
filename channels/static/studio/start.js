Studio.start();
