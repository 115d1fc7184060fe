/**
 * /v1/templates: each application's message texts per channel and language over the shipped ones, its default
 * language, and a preview of what a send would say (with the SMS's encoding and parts, as the SMSC will count them).
 */
import { z } from "zod";
import { encodeSms } from "../../../channels/sms-smpp/segments.js";
import { LANGUAGES, type Language } from "../../../core/templates/languages.js";
import {
  type RenderedMessage,
  render,
  TEMPLATE_CHANNELS,
  type TemplateChannel,
  type TemplateContent,
} from "../../../core/templates/template.js";
import { applicationOf, authenticate, bearer } from "../../auth.js";
import { HttpError } from "../../errors.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const Params = z.object({ channel: z.enum(TEMPLATE_CHANNELS), language: z.enum(LANGUAGES) });

const text = (max: number) => z.string().max(max);
const Body = z
  .object({
    body: text(5000).optional().describe("sms, viber, email: the text, with {code} and optionally {app}, {minutes}"),
    subject: text(200).optional().describe("email"),
    template_name: text(512).optional().describe("whatsapp: an approved authentication template"),
    language_code: text(16).optional().describe("whatsapp: the template's language, e.g. es or pt_BR"),
    android_app_hash: text(11).nullable().optional().describe("sms: Android SMS Retriever's 11-character app hash"),
    webotp_host: text(253).nullable().optional().describe("sms: the site's host for the WebOTP line @host #code"),
    intro: text(300).optional().describe("voice: said before the code (no {code}: the call says it digit by digit)"),
    again: text(300).optional().describe("voice: said before the code's second saying"),
    menu: text(300).optional().describe("voice: said after it: how to hear the code again (press one)"),
  })
  .strict();

const TemplateView = z.object({
  channel: z.enum(TEMPLATE_CHANNELS),
  language: z.enum(LANGUAGES),
  source: z.enum(["application", "server", "shipped"]).describe("whose text a send in this language uses"),
  body: z.string().nullable(),
  subject: z.string().nullable(),
  template_name: z.string().nullable(),
  language_code: z.string().nullable(),
  android_app_hash: z.string().nullable(),
  webotp_host: z.string().nullable(),
  intro: z.string().nullable(),
  again: z.string().nullable(),
  menu: z.string().nullable(),
  preview: z.object({
    text: z
      .string()
      .describe(
        "a send with a sample code, the configured app name and a 10-minute lifetime; voice: what the call says",
      ),
    subject: z.string().nullable(),
    sms: z
      .object({
        encoding: z.enum(["GSM-7", "UCS-2"]),
        parts: z.number().int().describe("SMS parts the text takes: 1 fits one message"),
        characters: z.number().int(),
      })
      .nullable(),
  }),
});
type TemplateJson = z.infer<typeof TemplateView>;

function fieldsView(content: TemplateContent) {
  const none = {
    body: null,
    subject: null,
    template_name: null,
    language_code: null,
    android_app_hash: null,
    webotp_host: null,
    intro: null,
    again: null,
    menu: null,
  };
  switch (content.channel) {
    case "sms":
      return {
        ...none,
        body: content.body,
        android_app_hash: content.androidAppHash,
        webotp_host: content.webOtpHost,
      };
    case "viber":
      return { ...none, body: content.body };
    case "whatsapp":
      return { ...none, template_name: content.templateName, language_code: content.languageCode };
    case "email":
      return { ...none, subject: content.subject, body: content.body };
    case "voice":
      return { ...none, intro: content.intro, again: content.again, menu: content.menu };
  }
}

function previewOf(rendered: RenderedMessage, channel: TemplateChannel): TemplateJson["preview"] {
  if (channel !== "sms") return { text: rendered.text, subject: rendered.subject ?? null, sms: null };
  const encoded = encodeSms(rendered.text, 0);
  return {
    text: rendered.text,
    subject: null,
    sms: {
      encoding: encoded.dataCoding === 0 ? "GSM-7" : "UCS-2",
      parts: encoded.parts.length,
      characters: [...rendered.text].length,
    },
  };
}

export const registerTemplates: RouteRegistration = (app, services) => {
  const tags = ["templates"];
  const security = [{ bearer: [] }];
  const sampleCode = "4829137465".slice(0, services.config.OTP_LENGTH);
  const view = async (applicationId: string, channel: TemplateChannel, language: Language): Promise<TemplateJson> => {
    const { content, source } = await services.templates.effective(applicationId, channel, language);
    const rendered = render(content, language, { app: services.config.OTP_APP_NAME, code: sampleCode, minutes: 10 });
    return { channel, language, source, ...fieldsView(content), preview: previewOf(rendered, channel) };
  };

  app.get(
    "/v1/templates",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Every channel's template in every language, with whose text it is",
        tags,
        security,
        querystring: z
          .object({ channel: z.enum(TEMPLATE_CHANNELS).optional(), language: z.enum(LANGUAGES).optional() })
          .strict(),
        response: {
          200: z.object({
            default_language: z.enum(LANGUAGES).nullable().describe("used when neither locale nor country decide"),
            languages: z.array(z.enum(LANGUAGES)),
            data: z.array(TemplateView),
          }),
          ...commonErrors,
          403: ErrorView,
        },
      },
    },
    async (request) => {
      const applicationId = applicationOf(request);
      const { defaultLanguage } = await services.templates.list(applicationId);
      const channels = request.query.channel ? [request.query.channel] : TEMPLATE_CHANNELS;
      const languages = request.query.language ? [request.query.language] : LANGUAGES;
      const data = [];
      for (const channel of channels) {
        for (const language of languages) data.push(await view(applicationId, channel, language));
      }
      return { default_language: defaultLanguage, languages: [...LANGUAGES], data };
    },
  );

  app.get(
    "/v1/templates/:channel/:language",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "One template, as a send in that language would use it, with a preview",
        tags,
        security,
        params: Params,
        response: { 200: TemplateView, ...commonErrors, 403: ErrorView },
      },
    },
    async (request) => view(applicationOf(request), request.params.channel, request.params.language),
  );

  app.put(
    "/v1/templates/:channel/:language",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Set the application's template for a channel and language",
        description:
          "Checked on save: only {app}, {code} and {minutes}, and {code} in SMS, Viber and email bodies; a voice " +
          "template's intro, again and menu take {app} and {minutes} (the call says the code itself). No control " +
          "characters (but tab and line breaks; a subject is one line) and no direction overrides (U+202D, U+202E).",
        tags,
        security,
        params: Params,
        body: Body,
        response: { 200: TemplateView, ...commonErrors, 403: ErrorView, 422: ErrorView },
      },
    },
    async (request) => {
      const applicationId = applicationOf(request);
      const { channel, language } = request.params;
      const b = request.body;
      const by = (await services.apiKeys.idOf(bearer(request) ?? "")) ?? "unknown key";
      const fields = {
        body: b.body,
        subject: b.subject,
        templateName: b.template_name,
        languageCode: b.language_code,
        androidAppHash: b.android_app_hash,
        webOtpHost: b.webotp_host,
        intro: b.intro,
        again: b.again,
        menu: b.menu,
      };
      unwrap(await services.templates.save(applicationId, channel, language, fields, by));
      return view(applicationId, channel, language);
    },
  );

  app.delete(
    "/v1/templates/:channel/:language",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Remove the application's template: sends in that language use the server's or shipped one again",
        tags,
        security,
        params: Params,
        response: { 204: z.null(), ...commonErrors, 403: ErrorView },
      },
    },
    async (request, reply) => {
      const { channel, language } = request.params;
      const removed = await services.templates.remove(applicationOf(request), channel, language);
      if (!removed) throw new HttpError({ code: "NOT_FOUND", message: "The application has no such template." });
      return reply.code(204).send(null);
    },
  );

  app.put(
    "/v1/templates/default-language",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Set the language used when neither the start's locale nor the number's country decide",
        tags,
        security,
        body: z.object({ language: z.enum(LANGUAGES).nullable() }).strict(),
        response: {
          200: z.object({ default_language: z.enum(LANGUAGES).nullable() }),
          ...commonErrors,
          403: ErrorView,
        },
      },
    },
    async (request) => {
      await services.templates.setDefaultLanguage(applicationOf(request), request.body.language);
      return { default_language: request.body.language };
    },
  );
};
