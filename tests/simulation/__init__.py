"""The simulation tester: seeded histories of loads, faults, kills and operator mistakes
against the real simulator, the real command and the library, with the invariants checked
after every step. `python -m tests.simulation --histories N --seed S` plays N of them."""
