/**
 * The texts every deployment starts with, per language. Each SMS fits one part with a 6-digit code and an app name
 * of up to 11 characters: the Latin-script ones are written in GSM-7's characters (160 per part: Spanish says
 * "clave" rather than "código", Portuguese avoids ã and ç, French its accents; Italian's è is GSM-7), the others are UCS-2 (70 per part)
 * and kept under 70. Every text names the sender and asks not to share the code, as carriers' anti-phishing rules
 * ask, and keeps the code as a separate word so SMS retrievers and iOS autofill find it.
 */
import type { Language } from "./languages.js";

export interface ShippedTexts {
  sms: string;
  emailSubject: string;
  emailBody: string;
  /** WhatsApp's code for the language, for an application's own WhatsApp templates */
  whatsappLanguage: string;
}

export const SHIPPED: Readonly<Record<Language, ShippedTexts>> = {
  en: {
    sms: "Your {app} verification code is {code}. It expires in {minutes} min. Never share it.",
    emailSubject: "Your {app} verification code",
    emailBody:
      "Your {app} verification code is {code}.\n\nIt expires in {minutes} minutes. If you did not ask for it, ignore this email. Never share the code with anyone.",
    whatsappLanguage: "en_US",
  },
  es: {
    sms: "Tu clave de {app} es {code}. Vence en {minutes} min. No la compartas con nadie.",
    emailSubject: "Tu código de verificación de {app}",
    emailBody:
      "Tu código de verificación de {app} es {code}.\n\nCaduca en {minutes} minutos. Si no lo has solicitado, ignora este correo. No compartas el código con nadie.",
    whatsappLanguage: "es",
  },
  pt: {
    sms: "Use {code} para confirmar no {app}. Expira em {minutes} min. Jamais compartilhe.",
    emailSubject: "Seu código de verificação do {app}",
    emailBody:
      "Seu código de verificação do {app} é {code}.\n\nEle expira em {minutes} minutos. Se você não o solicitou, ignore este e-mail. Nunca compartilhe o código.",
    whatsappLanguage: "pt_BR",
  },
  fr: {
    sms: "Votre code {app} est {code}. Il expire dans {minutes} min. Ne le partagez jamais.",
    emailSubject: "Votre code de vérification {app}",
    emailBody:
      "Votre code de vérification {app} est {code}.\n\nIl expire dans {minutes} minutes. Si vous ne l'avez pas demandé, ignorez cet e-mail. Ne communiquez jamais ce code.",
    whatsappLanguage: "fr",
  },
  de: {
    sms: "Ihr {app}-Code lautet {code}. Gültig für {minutes} Min. Geben Sie ihn nie weiter.",
    emailSubject: "Ihr {app}-Bestätigungscode",
    emailBody:
      "Ihr {app}-Bestätigungscode lautet {code}.\n\nEr ist {minutes} Minuten gültig. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail. Geben Sie den Code nie weiter.",
    whatsappLanguage: "de",
  },
  it: {
    sms: "Il tuo codice {app} è {code}. Scade tra {minutes} min. Non condividerlo con nessuno.",
    emailSubject: "Il tuo codice di verifica {app}",
    emailBody:
      "Il tuo codice di verifica {app} è {code}.\n\nScade tra {minutes} minuti. Se non l'hai richiesto, ignora questa email. Non condividere il codice con nessuno.",
    whatsappLanguage: "it",
  },
  ru: {
    sms: "{code} — код {app}. Действует {minutes} мин. Никому не сообщайте.",
    emailSubject: "Код подтверждения {app}",
    emailBody:
      "Ваш код подтверждения {app}: {code}.\n\nОн действует {minutes} мин. Если вы его не запрашивали, проигнорируйте это письмо. Никому не сообщайте код.",
    whatsappLanguage: "ru",
  },
  uk: {
    sms: "{code} — код {app}. Дійсний {minutes} хв. Нікому не повідомляйте.",
    emailSubject: "Код підтвердження {app}",
    emailBody:
      "Ваш код підтвердження {app}: {code}.\n\nВін дійсний {minutes} хв. Якщо ви його не запитували, проігноруйте цей лист. Нікому не повідомляйте код.",
    whatsappLanguage: "uk",
  },
  hi: {
    sms: "{app} कोड: {code}. {minutes} मिनट तक मान्य. किसी को न बताएं।",
    emailSubject: "आपका {app} सत्यापन कोड",
    emailBody:
      "आपका {app} सत्यापन कोड {code} है।\n\nयह {minutes} मिनट तक मान्य है। अगर आपने यह नहीं मांगा, तो इस ईमेल को अनदेखा करें। कोड किसी को न बताएं।",
    whatsappLanguage: "hi",
  },
  id: {
    sms: "Kode verifikasi {app} Anda: {code}. Berlaku {minutes} menit. Jangan berikan kepada siapa pun.",
    emailSubject: "Kode verifikasi {app} Anda",
    emailBody:
      "Kode verifikasi {app} Anda adalah {code}.\n\nKode berlaku {minutes} menit. Jika Anda tidak memintanya, abaikan email ini. Jangan berikan kode kepada siapa pun.",
    whatsappLanguage: "id",
  },
  ar: {
    sms: "رمز {app}: {code}. صالح لمدة {minutes} دقائق. لا تشاركه مع أحد.",
    emailSubject: "رمز التحقق من {app}",
    emailBody:
      "رمز التحقق الخاص بك من {app} هو {code}.\n\nالرمز صالح لمدة {minutes} دقائق. إذا لم تطلبه، فتجاهل هذه الرسالة. لا تشارك الرمز مع أي شخص.",
    whatsappLanguage: "ar",
  },
};
