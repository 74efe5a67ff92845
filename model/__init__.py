"""The networks: the move tokenizer and board features, the GPT-2 move model, the legality and
value nets, the ensemble, the policy that plays (:mod:`model.policy`), their training
(:mod:`model.run`'s loop, configured by :mod:`model.train`, :mod:`model.train_legality` and
:mod:`model.train_value`) and evaluation. Datasets are built by :mod:`data`."""
