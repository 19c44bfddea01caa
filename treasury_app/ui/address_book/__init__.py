"""The address book's screens: the list of entries, the form that adds one, and the picker the compose form uses."""
