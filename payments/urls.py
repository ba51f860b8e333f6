from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("retainer/", views.retainer, name="retainer"),
    path("retainer/return/", views.retainer_return, name="retainer_return"),
    path("retainer/<int:order_id>/receipt/", views.receipt, name="receipt"),
]
