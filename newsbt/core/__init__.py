"""The floor: the user-error type, file/line-located messages, validation helpers, atomic writes.

Owns: ``errors`` (NewsbtError), ``validation`` (strict models, "did you mean"), ``atomic`` (whole files),
``publish`` (whole report folders: one writer per name, staged and swapped in; disk errors as one line),
``plugins`` (named plug-ins from registries and entry points).
May import: the standard library and third-party packages only; nothing else in newsbt.
"""
