"""The team hub: an ASGI app that relays verified envelopes between an org's devices."""
