"""banshi: the application shell shared by every process: settings, database, console command."""
