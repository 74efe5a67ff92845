"""How moves become games: playing levels, players, the arena and the UCI engine."""
