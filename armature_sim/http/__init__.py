"""The simulator's HTTP surface: Armature's REST API in two dialects, and the `/_sim` controls.

`app` assembles the routes; `middleware` stands in front of them (the running clock, Date,
latency, faults, the key, its rate limit, the insights switch, the request log);
`running_clock` and `rate_limit` are those two pressures; `reads`, `writes` and
`sim_controls` hold the handlers; `dialect` is how records go on the wire (poisoned ones
through `armature_sim.poison`); `bodies` checks what writes accept.
"""
