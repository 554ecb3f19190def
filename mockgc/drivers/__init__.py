"""The drivers: what makes a flow's effects happen, in real time over HTTP or in virtual time in process."""
