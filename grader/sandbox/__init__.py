"""The trust boundary: the untrusted child (child.py, run as a script), how it confines itself, the
wire protocol, the parent's side that starts and talks to it, and the static rules on learner source."""
