"""The simulator's HTTP surface: Armature's REST API in two dialects, and the `/_sim` controls.

`app` assembles the routes; `middleware` stands in front of them (Date, latency, faults, the
key, the insights switch, the request log); `reads`, `writes` and `sim_controls` hold the
handlers; `dialect` is how records go on the wire; `bodies` checks what writes accept.
"""
