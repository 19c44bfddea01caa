"""Security: operators' password hashes, the audit chain's hashes, and (elsewhere in this folder) the keyring.

Only this layer touches hashes and secrets; services call it, the window and the command line never do.
"""
