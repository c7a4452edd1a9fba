"""Strom-Quittung (electricity receipt): the draft store, issuing with a signature, the receipt as documents."""
