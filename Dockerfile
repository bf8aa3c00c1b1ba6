# bizcenter in a container: one static binary.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /bizcenter ./cmd/bizcenter

FROM gcr.io/distroless/static-debian12
COPY --from=build /bizcenter /bizcenter
EXPOSE 8080
ENTRYPOINT ["/bizcenter"]
CMD ["serve"]
