"""A local simulator of Armature's REST API: a seeded world with a clock, faults and ground truth.

`armature-sim` serves it; `armature_sim.server.spawn` starts one for tests and demos.
"""
