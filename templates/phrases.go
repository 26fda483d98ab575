package templates

import (
	"fmt"
	"strings"
	"time"
)

// reasons are the words for the reason codes of package cases, per
// language, so that a staff mail in Chinese carries no English fragment
// (issue 13). %[1]s is Data.Who, %[2]s Data.Duration, %[3]d Data.Level,
// %[4]s Data.Date.
var reasons = map[string]map[string]string{
	"zh": {
		"respond":           "未在响应时限内响应（第 %[3]d 次升级，转交 %[1]s）",
		"stuck":             "分派后 %[2]s 仍未解决，请安排实施工程师协助",
		"solve_onsite":      "未能在时限内在线解决，需要现场服务，请派工（/onsite dispatch 邮箱）",
		"solve_no_onsite":   "未能在时限内在线解决；该客户未购买现场服务，请与客户商定（可付费上门：/onsite dispatch 邮箱 --billable）",
		"onsite":            "工程师 %[1]s 未在时限内到达现场",
		"report":            "巡检报告未在时限内提交",
		"customer_wrote":    "客户补充了信息",
		"unauthenticated":   "来自 %[1]s 的邮件未通过发件人认证（DKIM/DMARC），未执行",
		"delivery_failed":   "邮件无法投递给 %[1]s，请改用电话等方式联系客户",
		"dispatched":        "已派您到现场",
		"warn_respond":      "响应时限",
		"warn_solve":        "在线解决时限",
		"warn_report":       "巡检报告时限",
		"warn_onsite":       "到场时限",
		"ack_suppressed":    "%[1]s 在 %[2]s 内的自动回复已达上限（%[3]d 封），本次受理回执未发送",
		"reopened_customer": "客户回复但未确认解决，服务单已重新打开",
		"reopened_window":   "客户在重开期限内来信，服务单已重新打开",
		"visit_reminder":    "明天（%[4]s）有现场工作（%[1]s），请做好准备",
		"inspection_open":   "今天（%[4]s）的定期巡检已开启，请完成后回复本邮件并附上巡检报告",
		"consulting":        "超出服务范围，转交咨询团队",
		"auto_closed":       "%[2]s",
	},
	"en": {
		"respond":           "no staff response by the deadline (escalation %[3]d, to %[1]s)",
		"stuck":             "not solved %[2]s after assignment; please add an implementation engineer",
		"solve_onsite":      "not solved online in time: on-site required, please dispatch (/onsite dispatch EMAIL)",
		"solve_no_onsite":   "not solved online in time; the customer has no on-site service, please agree the next step with them (billable visit: /onsite dispatch EMAIL --billable)",
		"onsite":            "engineer %[1]s not on site in time",
		"report":            "inspection report not sent in time",
		"customer_wrote":    "the customer added information",
		"unauthenticated":   "mail from %[1]s failed sender authentication (DKIM/DMARC) and was not acted on",
		"delivery_failed":   "mail to %[1]s could not be delivered; please reach the customer another way (phone)",
		"dispatched":        "you are dispatched on site",
		"warn_respond":      "response",
		"warn_solve":        "online solution",
		"warn_report":       "inspection report",
		"warn_onsite":       "on-site arrival",
		"ack_suppressed":    "%[1]s reached the automatic reply limit (%[3]d in %[2]s); this acknowledgement was not sent",
		"reopened_customer": "the customer answered without confirming; the case is open again",
		"reopened_window":   "the customer wrote within the reopen window; the case is open again",
		"visit_reminder":    "on-site work (%[1]s) tomorrow, %[4]s: please prepare",
		"inspection_open":   "today's periodic inspection (%[4]s) is open; reply to this mail with the inspection report attached",
		"consulting":        "out of scope: handed to the consulting team",
		"auto_closed":       "%[2]s",
	},
}

// titles are short words for a reason, for subjects.
var titles = map[string]map[string]string{
	"zh": {
		"customer_wrote": "客户来信", "unauthenticated": "未认证邮件", "delivery_failed": "投递失败", "dispatched": "现场派工",
		"ack_suppressed": "回执未发送", "visit_reminder": "现场工作提醒", "inspection_open": "定期巡检", "consulting": "转交咨询",
	},
	"en": {
		"customer_wrote": "Customer wrote", "unauthenticated": "Unauthenticated mail", "delivery_failed": "Delivery failed",
		"dispatched": "On-site dispatch", "ack_suppressed": "Acknowledgement not sent", "visit_reminder": "Visit reminder",
		"inspection_open": "Periodic inspection", "consulting": "Handed to consulting",
	},
}

// ReasonTitle is a short title for a reason code in lang ("" if none).
func ReasonTitle(lang, code string) string {
	if lang != "en" {
		lang = "zh"
	}
	return titles[lang][code]
}

// ReasonText puts a reason code of package cases in words of lang; an
// unknown code is returned as it is.
func ReasonText(lang, code string, d Data) string {
	if lang != "en" {
		lang = "zh"
	}
	f, ok := reasons[lang][code]
	if !ok {
		return code
	}
	s := fmt.Sprintf(f, d.Who, d.Duration, d.Level, d.Date)
	// Codes that use fewer arguments get fmt's EXTRA note; cut it.
	if i := strings.Index(s, "%!(EXTRA"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// Duration writes d as people write it in lang: "30 分钟", "1 小时 30 分钟",
// "7 天"; "30 minutes", "1 hour 30 minutes", "7 days". Seconds are dropped
// unless d is under a minute.
func Duration(lang string, d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	hours, d := d/time.Hour, d%time.Hour
	mins, secs := d/time.Minute, (d%time.Minute)/time.Second
	type unit struct {
		n        time.Duration
		zh, en   string
		enPlural string
	}
	units := []unit{{days, "天", "day", "days"}, {hours, "小时", "hour", "hours"}, {mins, "分钟", "minute", "minutes"}}
	if days == 0 && hours == 0 && mins == 0 {
		units = append(units, unit{secs, "秒", "second", "seconds"})
	}
	var parts []string
	for _, u := range units {
		if u.n == 0 {
			continue
		}
		switch {
		case lang == "en" && u.n == 1:
			parts = append(parts, fmt.Sprintf("1 %s", u.en))
		case lang == "en":
			parts = append(parts, fmt.Sprintf("%d %s", u.n, u.enPlural))
		default:
			parts = append(parts, fmt.Sprintf("%d %s", u.n, u.zh))
		}
	}
	if len(parts) == 0 {
		if lang == "en" {
			return "0 minutes"
		}
		return "0 分钟"
	}
	return strings.Join(parts, " ")
}
