from django.urls import path

from filing import views

app_name = "filing"

urlpatterns = [
    path("designations/<int:pk>/", views.designation_sign, name="designation_sign"),
    path("designations/<int:pk>/pdf/", views.designation_download, name="designation_download"),
]
