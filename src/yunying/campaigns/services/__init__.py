"""campaigns.services: the only writers of campaign tables. Import from the submodules:
lifecycle (campaign create/edit/transitions), admission (sign-ups), lottery (draws), attendance
(check-in at the event, C10)."""
