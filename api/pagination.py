from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    """Every list is paged: ?page=N, and ?page_size= up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200
