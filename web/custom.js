/* Site customisation of the sao web client for the operator's staff,
   loaded by sao's index.html after the client (bin/install-sao copies it
   into the installed sao).

   sao's own Chinese catalogue leaves a few of the client's strings fuzzy
   or empty, so staff would read English on the toolbar; they are given
   here, and the title bar names the product instead of the framework. */
(function() {
    'use strict';
    const zh = {
        'Email...': '发送邮件...',
        'Send an email using the record': '用当前记录发送邮件',
        'Restore': '恢复',
        'Chat on the record': '记录讨论',
    };
    const chinese = () => (Sao.i18n.getLocale() || '').startsWith('zh');
    const gettext = Sao.i18n.gettext;
    Sao.i18n.gettext = function(msgid) {
        if (chinese() && Object.hasOwn(zh, msgid) && arguments.length == 1) {
            return zh[msgid];
        }
        return gettext.apply(this, arguments);
    };
    Sao.config.title = '客户关系管理';
}());
