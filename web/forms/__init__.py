"""Forms in the GOV.UK Design System's patterns, one module per area as in web/views/. They
validate input; the services enforce rules. Shared fields and widgets are in `fields`."""
