"""`brain --help` as argparse prints it at COLUMNS columns under Python PYTHON (see
brain_tui.cli.main.static_help). Generated: refresh it with `python -m brain_tui.cli.parsing`;
tests/e2e/test_cli.py says when it no longer matches the parsers."""

PYTHON = (3, 11)
COLUMNS = 80
TEXT = """\
usage: brain [-h] [--version] [--store PATH] [--allow-temp-store]
             [--actor ACTOR] [--json]
             COMMAND ...

BRAIN: a local-first, append-only, verifiable memory ledger.

positional arguments:
  COMMAND
    init              create a store
    put               write a memory from a file or stdin
    view              print a memory's body (or its metadata)
    move              move a memory to another path
    delete            tombstone a memory, or purge it for good
    reclass           change a memory's sync class (scanned for PII when
                      widened)
    pending           memories held for PII review, and resolving them
    state             show the store's state
    tail              print audit rows (and follow new ones)
    history           audit rows of one memory, across moves
    search            search memories
    similar           memories similar in meaning to one memory
    embed             compute missing embeddings for semantic search
    reindex           rebuild the derived index from the files and the log
    doctor            check the store's invariants (and repair)
    checkpoint        sign a checkpoint of the log now
    prove             print an inclusion proof for one audit row
    verify-proof      verify a proof bundle offline
    consistency       prove two checkpoints consistent
    rotate-key        rotate the signing key (old and new sign during the
                      overlap)
    tiers             show memory tiers, or rebalance them
    pin               pin a memory to the hot tier
    unpin             unpin a memory
    project           show or set the active project
    context           memories to start an agent session with
    export            write a deterministic, verifiable zip of the store
    import            verify another store's export and import its shareable
                      memories
    backup            snapshot the store into a new folder and verify it
    consolidate       seal the current log segment (zstd) and checkpoint
    demo              build the demo store and open the workstation on it
    mcp               serve the store to agents over MCP (stdio, or HTTP on
                      loopback)
    hook              agent and git hooks: capture sessions and commits,
                      install the hooks
    watch             capture a folder's text files as memories
    unwatch           stop capturing a folder
    capture           capture a text or a file once
    capture-daemon    capture watched folders until stopped
    status            watched folders, captures, pending PII, sync
    lesson            record a lesson: what failed, why, the fix, how to
                      prevent it
    propose           file a proposal for a person to approve (gate,
                      duplicates, budget)
    proposals         list and decide proposals (approve/reject need a person
                      at a terminal)
    maintain          propose maintenance: merge near duplicates, demote stale
                      memories
    suggest           patterns from recurring lessons that worked (top 5 above
                      0.7)
    hub               run a team hub: orgs, users, devices, and the server

options:
  -h, --help          show this help message and exit
  --version           print the installed version and exit

global options:
  --store PATH        store root (default: $CYBEROS_BRAIN_HOME, else
                      ~/.cyberos-memory)
  --allow-temp-store  allow a store under a temporary folder (or set
                      BRAIN_ALLOW_TEMP_STORE=1)
  --actor ACTOR       who is acting (default: $BRAIN_ACTOR, else
                      human:<user>@<host>)
  --json              print JSON instead of text

Run `brain COMMAND --help` for a command's options.
"""
