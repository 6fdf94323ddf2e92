"""The platform layer under every app: who may do what and where (roles, scoping, route rules), who acts
(actors), how apps react to each other (events), how writes are declared (actions), and the shared edges
(paging, tables in and out, bulk inserts, registries the apps fill). It imports Django but no Cordon app."""
