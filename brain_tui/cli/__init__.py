# The process started with stdin closed (`brain put PATH <&-`): a body read from it would be
# empty, so commands that read stdin refuse instead (set by main, read by cmd_put.read_body;
# here because main may run as __main__, a second copy of its module).
stdin_closed = False
