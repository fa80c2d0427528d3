"""What the directory tells the rest of PolicyHub, without knowing who listens.

`directory_changed` is sent once the transaction that created, moved or deactivated people
(an import, a provisioning request) has committed. Policies listens and brings its
assignments in line at once (policies/apps.py), instead of at the next beat round.
"""

from django.dispatch import Signal

directory_changed = Signal()
