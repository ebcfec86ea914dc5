"""What other apps may react to without cases depending on them (the arrow runs one way: they
import cases, never the reverse)."""

from django.dispatch import Signal

# The facts a programme's eligibility rules read changed: a person's date of birth, or the
# adversities recorded on a case. Sent inside the writing transaction with `actor` (who changed
# it) and `person_id` or `case_id`. programmes re-runs the rules of the open enrolments concerned.
eligibility_facts_changed = Signal()
