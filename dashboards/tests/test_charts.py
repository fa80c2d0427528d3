from dashboards.charts import Series, bar_chart, line_chart, span_chart


def test_bars_escape_their_labels_and_link_to_their_rows():
    svg = bar_chart(
        title="By <state>",
        labels=["<script>", "Open"],
        series=[Series("Incidents", [3, 0], ["/rows?a=1&b=2", "/never"])],
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'href="/rows?a=1&amp;b=2"' in svg
    # A zero draws no bar, so it has no link either.
    assert "/never" not in svg
    assert svg.count("<rect") == 1


def test_a_line_breaks_where_a_month_has_no_value():
    svg = line_chart(
        title="Median",
        labels=["Jan", "Feb", "Mar", "Apr"],
        series=[Series("Hours", [1, 2, None, 4])],
    )
    assert svg.count("<polyline") == 1  # Jan–Feb; Apr stands alone
    assert svg.count("<circle") == 3


def test_a_long_legend_wraps_into_more_rows():
    names = [f"A rather long series name {n}" for n in range(6)]
    one = bar_chart(title="t", labels=["x"], series=[Series(names[0], [1]), Series(names[1], [1])])
    many = bar_chart(title="t", labels=["x"], series=[Series(n, [1]) for n in names])
    assert 'viewBox="0 0 640 240"' in one
    assert 'viewBox="0 0 640 240"' not in many


def test_stretches_are_as_long_as_their_share():
    svg = span_chart(title="Exposure", stretches=[("a", 1.0), ("b", 3.0), ("c", None)])
    assert 'width="146.0"' in svg  # a quarter of the 584 px plot
    assert 'width="438.0"' in svg


def test_a_linked_bar_is_named_by_its_figure_and_the_chart_is_a_group():
    svg = bar_chart(
        title="Open incidents by state",
        labels=["Triage"],
        series=[Series("Open incidents", [3], ["/incidents?status=triage"])],
    )
    assert 'role="group" aria-label="Open incidents by state"' in svg
    assert 'aria-label="Triage: Open incidents 3"' in svg


def test_a_chart_without_links_is_one_image_named_by_its_title():
    svg = span_chart(title="The exposure window", stretches=[("Posted → noticed", 5.0)], unit=" h")
    assert 'role="img" aria-label="The exposure window"' in svg
    assert "<title>Posted → noticed: 5 h</title>" in svg
