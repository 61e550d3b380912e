"""Fault injection: a running `duta` attacked over local servers only."""
