"""The admin's home page (a dashboard) and its reports index: what is running, what
was sent, what needs attention. Read here, in delivery, because it reads campaigns
and delivery alike; the site (config/admin_site.py) serves the pages."""
