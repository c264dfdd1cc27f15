// The console is built in its own change.
