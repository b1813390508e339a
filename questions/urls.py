"""Pages of questions (namespace ``questions``): the public forms under a
shared link's ``s/<token>/``, the emailed confirmation links, and the
members' pages under a product. Every route spells out its full path."""

from django.urls import path

from .views import members, public

app_name = "questions"

P = "w/<slug:slug>/p/<str:key>/questions/"

urlpatterns = [
    path("s/<str:token>/questions/", public.ask, name="ask"),
    path("s/<str:token>/questions/<int:pk>/plus-one/", public.plus_one, name="plus-one"),
    path("question-confirm/<str:token>/", public.confirm_question, name="confirm-question"),
    path("question-plus-one/<str:token>/", public.confirm_vote, name="confirm-vote"),
    path(P, members.manage, name="manage"),
    path(P + "links/<int:pk>/", members.toggle, name="toggle"),
    path(P + "<int:pk>/answer/", members.answer, name="answer"),
]
