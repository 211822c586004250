"""The task page's correction rows: every field and material as options, the row's own choice selected."""

from django.template import Context, Template


def test_choice_groups_render_escaped_options_with_the_chosen_one_selected():
    template = Template("{% load hall %}{% choice_groups groups chosen %}")
    groups = [("本部门字段", [("name", "名称"), ("a<b", "x & y")]), ("材料", [("licence", "营业执照")])]
    html = template.render(Context({"groups": groups, "chosen": "licence"}))
    assert html == (
        '<optgroup label="本部门字段"><option value="name">名称</option>'
        '<option value="a&lt;b">x &amp; y</option></optgroup>\n'
        '<optgroup label="材料"><option value="licence" selected>营业执照</option></optgroup>'
    )
    assert " selected" not in template.render(Context({"groups": groups, "chosen": ""}))
