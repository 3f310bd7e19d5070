//! The command line: exit codes, error messages, output files.
