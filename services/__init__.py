"""docflow: event-driven document extraction.

Stages live in one package each (``intake``, ``parsing``, ``detection``,
``extraction``, ``validation``); each holds a pure ``logic`` module that never
imports Faust and a thin ``agent`` module that moves messages.
"""
