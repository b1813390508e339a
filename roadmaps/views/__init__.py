"""HTML views of roadmaps, one module per screen: ``lists`` (a product's
roadmaps, the workspace's roadmaps and portfolios), ``editor`` (the roadmap
page and what its panels post: settings, target split, milestones,
dependencies, lanes), ``entries`` (the item picker, the entry form, drag and
drop, keyboard moves), ``share`` (share links) and ``public`` (the shared page
for people without an account). Thin: they parse input, call
``roadmaps.services`` and render reads from ``roadmaps.reads``;
``roadmaps/urls.py`` routes to the modules."""
