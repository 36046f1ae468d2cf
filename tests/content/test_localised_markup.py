"""Words Python-Markdown writes itself, and GIFT's true/false options, in the file's language
(issue 13): an untitled note/tip/warning box, the footnote back-link's tooltip."""
from __future__ import annotations

import pytest

from app.content.render import render_markdown
from app.quizzes.authoring import parse_gift

TEXT = "Read this.[^1]\n\n!!! note\n    Plain box.\n\n!!! tip \"My own title\"\n    Titled.\n\n[^1]: A source.\n"


@pytest.mark.parametrize(("lang", "box", "backlink"), [
    ("ka", "შენიშვნა", "დაბრუნება ტექსტში, სქოლიო 1"),
    ("az", "Qeyd", "Mətndə 1 saylı qeydə qayıt"),
    ("hy", "Նշում", "Վերադառնալ տեքստում 1-րդ ծանոթագրությանը"),
    ("ru", "Примечание", "Вернуться к сноске 1 в тексте"),
])
def test_untitled_boxes_and_footnote_links_speak_the_files_language(lang, box, backlink):
    html = str(render_markdown(TEXT, lang=lang))
    assert f'<p class="admonition-title">{box}</p>' in html
    assert f'title="{backlink}"' in html
    assert "My own title" in html  # an author's title is theirs
    assert ">Note<" not in html and "Jump back" not in html


def test_english_and_unknown_languages_keep_the_markdown_words():
    for lang in (None, "en", "xx"):
        html = str(render_markdown(TEXT, lang=lang))
        assert '<p class="admonition-title">Note</p>' in html and "Jump back to footnote 1 in the text" in html


def test_a_box_titled_like_another_type_is_left_alone():
    html = str(render_markdown("!!! note \"Warning\"\n    Text.\n", lang="ru"))
    assert '<p class="admonition-title">Warning</p>' in html


@pytest.mark.parametrize(("path", "words"), [
    ("quiz/04-check.en.gift", ("True", "False")),
    ("quiz/04-check.ka.gift", ("მართალია", "მცდარია")),
    ("quiz/04-check.az.gift", ("Doğru", "Yanlış")),
    ("quiz/04-check.hy.gift", ("Ճիշտ է", "Սխալ է")),
    ("quiz/04-check.ru.gift", ("Верно", "Неверно")),
    ("upload.gift", ("True", "False")),
])
def test_gift_true_false_options_are_in_the_files_language(path, words):
    _meta, quiz, problems = parse_gift("::sky:: The sky is green. {F}\n", path=path)
    assert problems == []
    options = quiz.questions[0].options
    assert (options[0].text_md, options[1].text_md) == words
    assert [option.weight for option in options] == [0.0, 1.0]
