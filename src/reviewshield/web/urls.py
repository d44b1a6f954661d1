from django.contrib.auth import views as auth_views
from django.urls import path

from reviewshield.web import agent, alerts, buyer, chat, extortion, notifications, public, seller, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # public, no login
    path("blacklist/", public.blacklist, name="public_blacklist"),
    path("warnings/", public.warnings, name="public_warnings"),
    path("verify/", public.verify, name="public_verify"),
    # everyone logged in
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/read-all/", notifications.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>/", notifications.notification_open, name="notification_open"),
    # buyer
    path("orders/", buyer.orders, name="orders"),
    path("orders/<int:order_id>/complain/", buyer.complain, name="complain"),
    path("orders/<int:order_id>/assisted-request/", buyer.assisted_request, name="assisted_request"),
    path("file/<str:token>/", buyer.assisted_file, name="assisted_file"),
    path("cases/", buyer.rights_centre, name="cases"),
    path("cases/<int:case_id>/", buyer.case_detail, name="case"),
    path("cases/<int:case_id>/bundle/", buyer.case_bundle, name="case_bundle"),
    path("cases/<int:case_id>/evidence/", buyer.case_evidence_add, name="case_evidence_add"),
    path("cases/<int:case_id>/chat/cite/", buyer.buyer_only(chat.buyer_cite_stretch), name="case_chat_cite"),
    path(
        "cases/<int:case_id>/chat/permission/",
        buyer.buyer_only(chat.buyer_permission),
        name="case_chat_permission",
    ),
    path(
        "cases/<int:case_id>/evidence/<int:evidence_id>/", buyer.case_evidence_file, name="case_evidence_file"
    ),
    path("cases/<int:case_id>/settlement/", buyer.case_settlement, name="case_settlement"),
    path("cases/<int:case_id>/withdraw/", buyer.case_withdraw, name="case_withdraw"),
    path("cases/<int:case_id>/appeal/", buyer.case_appeal, name="case_appeal"),
    # seller
    path("seller/cases/", seller.cases, name="seller_cases"),
    path("seller/cases/<int:case_id>/", seller.case_detail, name="seller_case"),
    path("seller/cases/<int:case_id>/answer/", seller.case_answer, name="seller_answer"),
    path("seller/cases/<int:case_id>/evidence/", seller.case_evidence_add, name="seller_evidence_add"),
    path(
        "seller/cases/<int:case_id>/chat/cite/", seller.seller_only(chat.seller_cite), name="seller_chat_cite"
    ),
    path(
        "seller/cases/<int:case_id>/evidence/<int:evidence_id>/",
        seller.case_evidence_file,
        name="seller_evidence_file",
    ),
    path("seller/cases/<int:case_id>/appeal/", seller.case_appeal, name="seller_appeal"),
    path("seller/shops/<int:shop_id>/sanctions/", seller.shop_sanctions, name="seller_sanctions"),
    # agent
    path("agent/", agent.queue, name="agent_queue"),
    path("agent/cases/<int:case_id>/", agent.workspace, name="agent_case"),
    path("agent/cases/<int:case_id>/take/", agent.take, name="agent_take"),
    path("agent/cases/<int:case_id>/decide/", agent.decide, name="agent_decide"),
    path("agent/cases/<int:case_id>/bundle/", agent.bundle, name="agent_bundle"),
    path("agent/cases/<int:case_id>/chat/", agent.agent_only(chat.agent_chat), name="agent_chat"),
    path("agent/evidence/<int:evidence_id>/", agent.evidence_file, name="agent_evidence"),
    path("agent/assisted/", agent.assisted, name="agent_assisted"),
    path("agent/appeals/", agent.appeals, name="agent_appeals"),
    path("agent/appeals/<int:appeal_id>/", agent.appeal, name="agent_appeal"),
    path("agent/appeals/<int:appeal_id>/decide/", agent.appeal_decide, name="agent_appeal_decide"),
    path("agent/compensations/", agent.compensations, name="agent_compensations"),
    path(
        "agent/compensations/<int:compensation_id>/paid/",
        agent.compensation_paid,
        name="agent_compensation_paid",
    ),
    path("agent/webhooks/", agent.webhooks, name="agent_webhooks"),
    path("agent/webhooks/<int:delivery_id>/replay/", agent.webhook_replay, name="agent_webhook_replay"),
    # alerts from screening and forensics: agents work them, the buyer agrees to a complaint
    path("agent/alerts/", alerts.agent_alerts, name="agent_alerts"),
    path("agent/alerts/<int:alert_id>/", alerts.agent_alert, name="agent_alert"),
    path("agent/alerts/<int:alert_id>/<slug:action>/", alerts.agent_act, name="agent_alert_act"),
    path("protection/", alerts.buyer_alerts, name="buyer_alerts"),
    path("protection/<int:alert_id>/", alerts.buyer_alert, name="buyer_alert"),
    path("protection/<int:alert_id>/answer/", alerts.buyer_consent, name="buyer_alert_consent"),
    # buyer-extortion reports (差评师): seller, buyer, agent
    path("seller/extortion/", extortion.seller_reports, name="seller_extortion"),
    path("seller/extortion/new/", extortion.seller_file, name="seller_extortion_file"),
    path("seller/extortion/<int:report_id>/", extortion.seller_report, name="seller_extortion_report"),
    path(
        "seller/extortion/<int:report_id>/evidence/",
        extortion.seller_evidence_add,
        name="seller_extortion_evidence_add",
    ),
    path(
        "seller/extortion/<int:report_id>/evidence/<int:evidence_id>/",
        extortion.seller_evidence_file,
        name="seller_extortion_evidence_file",
    ),
    path(
        "seller/extortion/<int:report_id>/withdraw/",
        extortion.seller_withdraw,
        name="seller_extortion_withdraw",
    ),
    path("extortion/", extortion.buyer_reports, name="buyer_extortion"),
    path("extortion/<int:report_id>/", extortion.buyer_report, name="buyer_extortion_report"),
    path("extortion/<int:report_id>/answer/", extortion.buyer_answer, name="buyer_extortion_answer"),
    path(
        "extortion/<int:report_id>/evidence/",
        extortion.buyer_evidence_add,
        name="buyer_extortion_evidence_add",
    ),
    path(
        "extortion/<int:report_id>/evidence/<int:evidence_id>/",
        extortion.buyer_evidence_file,
        name="buyer_extortion_evidence_file",
    ),
    path("agent/extortion/", extortion.agent_queue, name="agent_extortion"),
    path("agent/extortion/<int:report_id>/", extortion.agent_report, name="agent_extortion_report"),
    path("agent/extortion/<int:report_id>/take/", extortion.agent_take, name="agent_extortion_take"),
    path("agent/extortion/<int:report_id>/decide/", extortion.agent_decide, name="agent_extortion_decide"),
    path(
        "agent/extortion/evidence/<int:evidence_id>/",
        extortion.agent_evidence,
        name="agent_extortion_evidence",
    ),
]
