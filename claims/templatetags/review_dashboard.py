"""`{% review_dashboard %}` on the admin index (templates/admin/index.html): the aggregate dashboard, for staff with
`claims.view_dashboard`."""

from django import template

from claims.admin.dashboard import PERMISSION_DASHBOARD, dashboard_context

register = template.Library()


@register.inclusion_tag("admin/claims/dashboard.html", takes_context=True)
def review_dashboard(context) -> dict:
    if not context["request"].user.has_perm(PERMISSION_DASHBOARD):
        return {"show": False}
    return {"show": True, **dashboard_context()}
