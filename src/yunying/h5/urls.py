"""Member pages (mobile H5) under /m/."""

from django.urls import path, re_path

from yunying.h5 import brokerage, centre, coupons, incentives, mydata, points, views

app_name = "h5"

urlpatterns = [
    path("", views.index, name="index"),
    path("c/<int:campaign_id>/", views.landing, name="landing"),
    path("c/<int:campaign_id>/signup/", views.signup, name="signup"),
    path("c/<int:campaign_id>/signup/check/", views.signup_check, name="signup_check"),
    path("c/<int:campaign_id>/signup/verify/", views.signup_verify, name="signup_verify"),
    path("risk/<int:decision_id>/review/", views.risk_ask, name="risk_ask"),
    path("signin/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/notice/", views.policy_text, name="policy"),
    path("me/", views.me, name="me"),
    path("me/privacy/", centre.consent_page, name="consent"),
    path("me/identity/", centre.identity_page, name="identity"),
    path("me/data/", mydata.data_centre, name="mydata"),
    path("me/data/export/", mydata.data_export, name="mydata_export"),
    path("me/data/delete/", mydata.data_delete, name="mydata_delete"),
    path("me/questions/<str:moment>/", centre.questions, name="questions"),
    path("i/<str:code>/", centre.invite, name="invite"),
    path("p/<str:code>/", brokerage.promoter_link, name="promoter_link"),
    path("me/earnings/", brokerage.earnings, name="earnings"),
    path("me/earnings/apply/", brokerage.earnings_apply, name="earnings_apply"),
    path("me/points/", points.points_page, name="points"),
    path("me/coupons/", coupons.coupons_page, name="coupons"),
    path("me/coupons/claim/", coupons.coupon_claim_view, name="coupon_claim"),
    path("me/coupons/redeem/", coupons.code_redeem_view, name="coupon_redeem"),
    path("me/coupons/points/<int:promotion_id>/", coupons.points_exchange, name="coupon_points"),
    path("me/checkin/", incentives.checkin_page, name="checkin"),
    path("me/tasks/", incentives.tasks_page, name="tasks"),
    path("me/invite/", incentives.invite_page, name="invite_page"),
    path("me/s/<str:public_id>/", views.signup_detail, name="signup_detail"),
    path("me/s/<str:public_id>/withdraw/", views.withdraw, name="withdraw"),
    # Anything else under /m/: the member pages' own "not found", not the API's JSON.
    re_path(r"^.*$", views.not_found, name="not_found"),
]
