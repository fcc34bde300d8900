"""The command line's groups, one module each: ``add_parser(subparsers)`` adds the group's sub-commands and
``handler(ctx, args)`` runs them (hooked into :mod:`huifang_desktop.app`)."""
