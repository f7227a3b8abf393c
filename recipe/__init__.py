"""verl recipes shipped by this project (verl's own wheel installs no ``recipe`` package)."""
