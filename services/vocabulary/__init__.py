"""The shared vocabulary every stage speaks: vendor templates as data, the normalisers from printed
text to the field schema, currencies, identifier check digits, and one document's regex budget.
It imports nothing above services.contracts and services.errors."""
