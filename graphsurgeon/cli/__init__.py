"""The graphsurgeon command: one module per subcommand (NAME_cmd.py), option groups in options.py, main.py."""
