//! Human-readable rendering of replies, quick replies, buttons and cards for the terminal.

use flowai_core::models::{Button, Card, ReplyMessage, Template};

/// Lines showing one reply message; quick replies are numbered from `first_number`
/// so a person can pick one by typing its number.
pub fn reply_lines(message: &ReplyMessage, first_number: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut number = first_number;
    for response in &message.responses {
        match &response.template {
            Template::Text {
                text,
                quick_replies,
            } => {
                lines.push(format!("bot: {}", text.trim_end()));
                for qr in quick_replies {
                    lines.push(format!("  [{number}] {}", qr.label));
                    number += 1;
                }
            }
            Template::Image { title, url }
            | Template::Video { title, url }
            | Template::Audio { title, url }
            | Template::File { title, url } => lines.push(format!(
                "bot: <{}> {}{}",
                response.template.kind(),
                title
                    .as_deref()
                    .map(|t| format!("{t} "))
                    .unwrap_or_default(),
                url
            )),
            Template::Location { title, lat, long } => lines.push(format!(
                "bot: <location> {} ({lat}, {long})",
                title.as_deref().unwrap_or("")
            )),
            Template::Card(card) => lines.extend(card_lines(card)),
            Template::Buttons { title, buttons } => {
                lines.push(format!("bot: {}", title.as_deref().unwrap_or("")));
                lines.extend(buttons.iter().map(button_line));
            }
            Template::Carousel { cards } => {
                for card in cards {
                    lines.extend(card_lines(card));
                }
            }
            Template::List { items, buttons } => {
                for item in items {
                    lines.push(format!("bot: - {}", item.title));
                    lines.extend(item.buttons.iter().map(button_line));
                }
                lines.extend(buttons.iter().map(button_line));
            }
            other => lines.push(format!("bot: <{}> {}", other.kind(), other.payload())),
        }
    }
    if lines.is_empty() && !message.fallback.is_empty() {
        lines.push(format!("bot: {}", message.fallback));
    }
    lines
}

fn card_lines(card: &Card) -> Vec<String> {
    let mut lines = vec![format!("bot: [card] {}", card.title)];
    if let Some(subtitle) = &card.subtitle {
        lines.push(format!("       {subtitle}"));
    }
    lines.extend(card.buttons.iter().map(button_line));
    lines
}

fn button_line(button: &Button) -> String {
    format!("  ({}) {} -> {}", button.kind, button.label, button.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowai_core::models::{QuickReply, Response};

    #[test]
    fn text_with_numbered_quick_replies() {
        let message = ReplyMessage {
            responses: vec![Response::new(Template::Text {
                text: "Hi".into(),
                quick_replies: vec![
                    QuickReply {
                        label: "A".into(),
                        value: "a".into(),
                        ..Default::default()
                    },
                    QuickReply {
                        label: "B".into(),
                        value: "b".into(),
                        ..Default::default()
                    },
                ],
            })],
            ..Default::default()
        };
        assert_eq!(
            reply_lines(&message, 1),
            vec!["bot: Hi", "  [1] A", "  [2] B"]
        );
    }
}
