"""Paged lists: one page of a queryset with links to its neighbours, for
templates/_pager.html."""

from django.core.paginator import Paginator


def page_of(request, queryset, *, per_page: int, param: str = "page", anchor: str = ""):
    """A page of `queryset` (a bad or too-large number gives the first or last page), with
    links to its neighbours that keep the other parameters, so that a page can hold
    several paged lists (each with its own `param`)."""
    page = Paginator(queryset, per_page).get_page(request.GET.get(param))

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = number
        return f"?{query.urlencode()}{'#' + anchor if anchor else ''}"

    page.previous_url = url(page.previous_page_number()) if page.has_previous() else None
    page.next_url = url(page.next_page_number()) if page.has_next() else None
    return page
