package replytext

// The words mail clients print around quoted history, per language. They are
// matched case-insensitively on trimmed lines.

// separatorLabels are the labels of the dashed lines clients put between the
// new text and the quoted message ("-----Original Message-----",
// "-------- Oprindelig besked --------", "------------------ 原始邮件
// ------------------"), the forwarded-message lines of the same clients,
// and the localized forms Outlook, Thunderbird, Gmail, Apple Mail, QQ Mail,
// Foxmail and NetEase write.
var separatorLabels = []string{
	// English
	"original message", "original e-mail", "original email", "original", "replied message",
	"reply message", "forwarded message", "forwarded e-mail", "forwarded email", "forwarded",
	"forward message", "message forwarded",
	// Chinese
	"原始邮件", "原始郵件", "原始信息", "原始訊息", "原邮件", "原郵件", "回复的原邮件", "转发的原邮件",
	"转发邮件信息", "转发邮件", "转发的邮件", "轉寄郵件", "转发信息", "邮件原件", "郵件原件", "原始邮件信息",
	// Japanese, Korean
	"元のメッセージ", "転送メッセージ", "転送されたメッセージ", "원본 메시지", "전달된 메시지", "원본 메일",
	// French
	"message d'origine", "message d’origine", "message original", "message transféré",
	"mail original", "mail transféré", // Zimbra
	// German
	"ursprüngliche nachricht", "ursprüngliche mail", "weitergeleitete mail", "originalnachricht", "original-nachricht", "weitergeleitete nachricht",
	// Spanish, Portuguese, Italian
	"mensaje original", "mensaje reenviado", "mensagem original", "mensagem encaminhada",
	"mensagem reencaminhada", "messaggio originale", "messaggio inoltrato",
	// Dutch
	"oorspronkelijk bericht", "origineel bericht", "doorgestuurd bericht",
	// Danish, Norwegian, Swedish
	"oprindelig besked", "oprindelig meddelelse", "videresendt besked", "videresendt meddelelse",
	"opprinnelig melding", "videresendt melding", "ursprungligt meddelande",
	"vidarebefordrat meddelande", "originalmeddelande",
	// Russian, Polish, Czech
	"исходное сообщение", "пересылаемое сообщение", "пересланное сообщение",
	"oryginalna wiadomość", "wiadomość oryginalna", "wiadomość przekazana dalej",
	"původní zpráva", "původní e-mail", "přeposlaná zpráva",
	// Turkish, Finnish, Hungarian
	"orijinal mesaj", "özgün ileti", "orijinal ileti", "iletilen ileti", "alkuperäinen viesti",
	"välitetty viesti", "eredeti üzenet", "továbbított üzenet",
	// Romanian, Greek, Bulgarian, Ukrainian, Croatian, Slovak, Indonesian
	"mesaj original", "mesajul original", "αρχικό μήνυμα", "оригинално съобщение",
	"оригінальне повідомлення", "вихідне повідомлення", "izvorna poruka", "originalna poruka",
	"pôvodná správa", "pesan asli", "pesan asli dari",
}

// forwardLines are the forwarded-message headers that are not dashed lines
// (Apple Mail and the clients that copy it), without their colon.
var forwardLines = []string{
	"begin forwarded message", "下面是被转发的邮件", "开始转发的邮件", "以下是转发的邮件",
	"début du message réexpédié", "début du message transféré", "anfang der weitergeleiteten nachricht",
	"inicio del mensaje reenviado", "início da mensagem reencaminhada", "início da mensagem encaminhada",
	"inizio messaggio inoltrato", "begin doorgestuurd bericht", "videresendt besked",
	"vidarebefordrat mejl", "videresendt e-post", "начало переадресованного сообщения",
	"początek przekazywanej wiadomości", "転送されたメッセージ", "전달된 메시지",
}

// Header keys of the blocks that Outlook, Outlook for Mac, Lotus Notes,
// Foxmail, QQ Mail and others print above the quoted message.
const (
	keyNone = iota
	keyFrom
	keyDate
	keyTo
	keyCc
	keySubject
)

var headerKeys = map[string]int{
	// From
	"from": keyFrom, "发件人": keyFrom, "發件人": keyFrom, "寄件者": keyFrom, "寄件人": keyFrom,
	"发信人": keyFrom, "von": keyFrom, "de": keyFrom, "van": keyFrom, "da": keyFrom, "差出人": keyFrom,
	"fra": keyFrom, "från": keyFrom, "от": keyFrom, "od": keyFrom, "보낸 사람": keyFrom,
	"από": keyFrom, "від": keyFrom, "de la": keyFrom, "šalje": keyFrom, "dari": keyFrom,
	"từ": keyFrom, "من": keyFrom, "מאת": keyFrom, "saatja": keyFrom, "nuo": keyFrom, "no": keyFrom,
	"frá":    keyFrom,
	"kimden": keyFrom, "lähettäjä": keyFrom, "feladó": keyFrom, "afzender": keyFrom,
	"absender": keyFrom, "remitente": keyFrom, "expéditeur": keyFrom, "mittente": keyFrom,
	"보낸사람": keyFrom,

	// Sent, Date
	"sent": keyDate, "date": keyDate, "发送时间": keyDate, "發送時間": keyDate, "发送日期": keyDate,
	"发件时间": keyDate, "日期": keyDate, "时间": keyDate, "時間": keyDate, "寄件日期": keyDate,
	"傳送時間": keyDate, "傳送日期": keyDate, "gesendet": keyDate, "datum": keyDate, "envoyé": keyDate,
	"envoyé le": keyDate, "enviado": keyDate, "enviado el": keyDate, "enviada em": keyDate,
	"enviado em": keyDate, "fecha": keyDate, "data": keyDate, "inviato": keyDate,
	"送信日時": keyDate, "日時": keyDate, "日付": keyDate, "verzonden": keyDate, "sendt": keyDate,
	"dato": keyDate, "skickat": keyDate, "отправлено": keyDate, "дата": keyDate,
	"wysłano": keyDate, "wysłane": keyDate, "odesláno": keyDate, "보낸 날짜": keyDate,
	"στάλθηκε": keyDate, "надіслано": keyDate, "trimis": keyDate, "odoslané": keyDate,
	"poslano": keyDate, "poslato": keyDate, "dikirim": keyDate, "đã gửi": keyDate, "enviat": keyDate,
	"saadetud": keyDate, "išsiųsta": keyDate, "nosūtīts": keyDate, "изпратено": keyDate,
	"تم الإرسال": keyDate, "נשלח": keyDate,
	"날짜": keyDate, "gönderildi": keyDate, "tarih": keyDate, "lähetetty": keyDate,
	"päivämäärä": keyDate, "elküldve": keyDate, "dátum": keyDate, "sent at": keyDate,

	// To
	"to": keyTo, "收件人": keyTo, "收件者": keyTo, "an": keyTo, "à": keyTo, "a": keyTo, "para": keyTo,
	"aan": keyTo, "宛先": keyTo, "til": keyTo, "till": keyTo, "кому": keyTo, "do": keyTo,
	"komu": keyTo, "받는 사람": keyTo, "받는사람": keyTo, "kime": keyTo, "vastaanottaja": keyTo,
	"προς": keyTo, "către": keyTo, "prima": keyTo, "za": keyTo, "kepada": keyTo, "đến": keyTo,
	"per a": keyTo, "adressaat": keyTo, "kam": keyTo, "до": keyTo, "إلى": keyTo, "אל": keyTo,
	"címzett": keyTo, "destinataire": keyTo, "empfänger": keyTo,

	// Cc
	"cc": keyCc, "抄送": keyCc, "抄送人": keyCc, "副本": keyCc, "kopie": keyCc, "kopia": keyCc,
	"копия": keyCc, "dw": keyCc, "참조": keyCc, "bilgi": keyCc, "másolat": keyCc, "bcc": keyCc,

	// Subject
	"subject": keySubject, "主题": keySubject, "主題": keySubject, "主旨": keySubject,
	"标题": keySubject, "主 题": keySubject, "標題": keySubject, "betreff": keySubject, "objet": keySubject,
	"asunto": keySubject, "assunto": keySubject, "oggetto": keySubject, "onderwerp": keySubject,
	"件名": keySubject, "emne": keySubject, "ämne": keySubject, "тема": keySubject,
	"temat": keySubject, "předmět": keySubject, "제목": keySubject, "konu": keySubject,
	"aihe": keySubject, "tárgy": keySubject, "θέμα": keySubject, "tema": keySubject, "subiect": keySubject,
	"predmet": keySubject, "perihal": keySubject, "chủ đề": keySubject, "assumpte": keySubject,
	"teema": keySubject, "tēma": keySubject, "efni": keySubject, "относно": keySubject,
	"الموضوع": keySubject, "נושא": keySubject,
}

// attrVerbs are the verbs of attribution lines: "wrote" in "On … Alice
// wrote:", "schrieb" in "Am … schrieb Alice:", "写道" in "… 写道：". Words of
// Latin, Cyrillic and similar scripts must stand as words; the others
// (Chinese, Japanese, Korean) are found anywhere.
var attrVerbs = []string{
	"wrote", "writes", "has written", "a écrit", "a ecrit", "schrieb", "geschrieben",
	"escribió", "escribio", "escreveu", "ha scritto", "scrisse", "schreef", "heeft geschreven",
	"skrev", "pisze", "pisał", "pisała", "napisana", "napisał(a)", "लिखा", "napisał", "napisała", "napisal", "пишет", "написал(а)", "написал",
	"написала", "napsal(a)", "napsal", "napsala", "yazdı", "kirjoitti", "írta",
	"έγραψε", "написав", "написала", "пише", "napisao", "napisala", "napísal", "napísal(a)",
	"a scris", "escriure", "escrigué", "rašė", "kirjutas", "rakstīja", "skrifaði", "menulis",
	"đã viết", "כתב", "כתבה", "كتب", "het volgende geschreven",
	"写道", "寫道", "来信", "來信", "書きました", "書き込みました", "작성", "썼습니다",
}

// quotingWords open Horde's attribution, "Quoting Alice <addr>:".
var quotingWords = []string{"quoting ", "zitat von ", "citando ", "citation de ", "cytuję ", "citaat van "}

// inlineStarts are the words that open an attribution and that can follow
// the person's own text on the same line ("Thanks, fixed. On Tue, …").
var inlineStarts = []string{"On ", "Am ", "Le ", "El ", "Em ", "Op ", "Il giorno ", "Il ", "W dniu ",
	"Den ", "Dne ", "在", "於"}

// attrStartWords start an attribution line: "On Mon, …", "Am 23.11.2026 …",
// "在 2026/11/23 …".
var attrStartWords = []string{"on", "am", "le", "el", "il", "il giorno", "op", "em", "den", "dne",
	"w dniu", "在", "于", "於"}

// mobileSignatures start the lines that mobile and desktop mail apps append
// below the text; history that follows such a line is not marked, so the
// text ends after it.
var mobileSignatures = []string{
	"sent from my ", "sent from outlook for ", "sent from yahoo mail", "sent from mail for windows",
	"sent from samsung", "sent with spark", "sent via superhuman", "sent from my windows phone",
	"enviado de meu ", "verzonden met mijn ", "sent via the samsung", "sent from my mobile", "sent from the all new aol",
	"sent from aol mobile", "sent from protonmail", "sent from proton mail", "sent using the mail.ru",
	"sent from gmail mobile", "sent with blackberry", "sent from blackberry", "sent from huawei",
	"get outlook for ios", "get outlook for android", "sent from outlook mobile",
	"von meinem iphone gesendet", "von meinem ipad gesendet", "von meinem samsung", "gesendet von meinem ",
	"gesendet mit der ", "von meinem smartphone gesendet", "outlook für ios beziehen",
	"outlook für android beziehen",
	"envoyé de mon ", "envoyé depuis mon ", "envoyé à partir de outlook", "télécharger outlook pour ",
	"obtenir outlook pour ",
	"enviado desde mi ", "enviado desde outlook", "enviado do meu ", "enviado a partir do ",
	"obtener outlook para ", "obter o outlook para ",
	"inviato da iphone", "inviato da ipad", "inviato dal mio ", "inviato da outlook",
	"scarica outlook per ",
	"verzonden vanaf mijn ", "verstuurd vanaf mijn ", "verzonden met outlook", "outlook voor ios downloaden",
	"sendt fra min ", "sendt fra outlook", "skickat från min ", "skickat från outlook",
	"отправлено с iphone", "отправлено с моего ", "отправлено из мобильной", "отправлено с ipad",
	"wysłane z mojego ", "wysłane z iphone", "wysłano z mojego ", "odesláno z iphonu", "odesláno z mého ",
	"iphone'umdan gönderildi", "iphone’umdan gönderildi", "lähetetty iphonesta",
	"iphoneから送信", "ipadから送信", "android から送信", "androidから送信", "outlook for ios を入手",
	"iphone에서 보냄", "ipad에서 보냄", "android에서 보냄", "ios용 outlook 받기",
	"发自我的iphone", "发自我的 iphone", "发自我的ipad", "发自我的手机", "发自我的华为手机", "從我的 iphone 傳送",
	"從我的iphone傳送", "发自我的小米手机", "来自我的iphone", "发自 outlook", "發自我的 iphone",
	"從我的 ipad 傳送", "获取 ios 版 outlook", "取得 ios 版 outlook",
}
