"""How moves become games, from the bottom up: :mod:`play.material` (piece values and the 2-ply
material judge), :mod:`play.tactics` (a material alpha-beta search) and :mod:`play.mates` (mates by
checks), :mod:`play.search` (the PUCT tree search over the policy and the value net),
:mod:`play.levels` (the playing levels), :mod:`play.players` and :mod:`play.arena` (matches
between players), :mod:`play.ratings` (the levels' Elo ladder), :mod:`play.analysis` (evaluations,
best lines, game review), :mod:`play.board_text` and :mod:`play.terminal` (a game in a terminal),
and the model as an engine for GUIs: :mod:`play.uci` and :mod:`play.ucci`, picked by
:mod:`play.protocols`."""
