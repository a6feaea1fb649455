"""Services: the functions that change help-desk state (tickets, customers)."""
