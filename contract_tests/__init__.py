"""The contract kit: checks of servers, clients and webhook consumers against Sohar's contract."""
