"""TMF622 Product Ordering, FIT-API profile: rules (states), and later service and handlers."""
