"""Example application built from the reqset ``reqsset3``; see ``cli.main``."""
